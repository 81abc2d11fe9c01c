"""Code shared by the serverless blog's three Chalice apps."""
