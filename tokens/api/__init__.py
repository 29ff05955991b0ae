"""The REST API (Django REST framework only): token list and detail, health, schema and docs."""
