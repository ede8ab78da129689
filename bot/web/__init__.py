"""The HTTP channels: the REST webhook (Rasa's protocol), callback delivery with its SSRF guard,
CORS, the web chat page and its static files, and the OpenAPI document that describes them."""
