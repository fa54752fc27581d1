"""Typed, schema-validated tools run as actors under an approval policy (see ``base``)."""
