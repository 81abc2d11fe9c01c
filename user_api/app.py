"""user_api: users, authentication, following and password resets (Lambda behind API Gateway),
the mail consumer (Lambda fed by SQS), its schedule, and the function that makes and rotates
the access-token key."""

from blog_shared.config import check_at_startup
from blog_shared.http import create_api
from blog_shared.openapi import openapi_blueprint
from chalicelib.auth.routes import bp as auth_routes
from chalicelib.follows.routes import bp as follow_routes
from chalicelib.keys.handlers import bp as key_handlers
from chalicelib.mail.handlers import bp as mail_handlers
from chalicelib.mail.schedule import bp as mail_schedule
from chalicelib.passwords.routes import bp as password_routes
from chalicelib.users.routes import bp as user_routes

check_at_startup("user_api", addresses=("PUBLIC_URL",))  # its keys; outside dev, https links in mail

app = create_api("user-api")
app.register_blueprint(user_routes)
app.register_blueprint(auth_routes)
app.register_blueprint(follow_routes)
app.register_blueprint(password_routes)
app.register_blueprint(mail_handlers)
app.register_blueprint(mail_schedule)
app.register_blueprint(key_handlers)
app.register_blueprint(openapi_blueprint("Serverless Blog: user API", "Users, authentication and following."))
