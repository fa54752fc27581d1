"""Layered configuration: defaults < user file < project file < environment < flags."""
