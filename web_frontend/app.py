"""web_frontend: the blog in the browser, rendered with Jinja2 from user_api and post_api."""

from blog_shared.config import check_at_startup
from chalicelib.pages.auth import bp as auth_pages
from chalicelib.pages.feeds import bp as feed_pages
from chalicelib.pages.main import bp as main_pages
from chalicelib.pages.posts import bp as post_pages
from chalicelib.pages.users import bp as user_pages
from chalicelib.web import create_web_app

check_at_startup(
    "web_frontend", addresses=("PUBLIC_URL", "USER_API_URL", "POST_API_URL")
)  # a real key; https addresses

app = create_web_app("web-frontend")
app.register_blueprint(main_pages)
app.register_blueprint(auth_pages)
app.register_blueprint(user_pages)
app.register_blueprint(post_pages)
app.register_blueprint(feed_pages)
