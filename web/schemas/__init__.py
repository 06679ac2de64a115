"""marshmallow schemas for every request and response body of the public API."""
