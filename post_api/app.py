"""post_api: posts, the feed, likes and comments (Lambda behind API Gateway)."""

from blog_shared.config import check_at_startup
from blog_shared.http import create_api
from blog_shared.openapi import openapi_blueprint
from chalicelib.comments.routes import bp as comment_routes
from chalicelib.likes.routes import bp as like_routes
from chalicelib.posts.routes import bp as post_routes
from chalicelib.sitemap.routes import bp as sitemap_routes

check_at_startup("post_api", addresses=("PUBLIC_URL",))  # its keys; outside dev, https post addresses

app = create_api("post-api")
app.register_blueprint(post_routes)
app.register_blueprint(like_routes)
app.register_blueprint(comment_routes)
app.register_blueprint(sitemap_routes)
app.register_blueprint(openapi_blueprint("Serverless Blog: post API", "Posts, the feed, likes and comments."))
