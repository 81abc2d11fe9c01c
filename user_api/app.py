"""user_api: users, authentication, following and password resets (Lambda behind API Gateway),
and the mail consumer (Lambda fed by SQS)."""

from blog_shared.config import check_at_startup
from blog_shared.http import create_api
from blog_shared.openapi import openapi_blueprint
from chalicelib.auth.routes import bp as auth_routes
from chalicelib.follows.routes import bp as follow_routes
from chalicelib.mail.handlers import bp as mail_handlers
from chalicelib.passwords.routes import bp as password_routes
from chalicelib.users.routes import bp as user_routes

check_at_startup(addresses=("PUBLIC_URL",))  # a real signing key; outside dev, https links in mail

app = create_api("user-api")
app.register_blueprint(user_routes)
app.register_blueprint(auth_routes)
app.register_blueprint(follow_routes)
app.register_blueprint(password_routes)
app.register_blueprint(mail_handlers)
app.register_blueprint(openapi_blueprint("Serverless Blog: user API", "Users, authentication and following."))
