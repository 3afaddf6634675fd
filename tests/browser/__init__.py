"""The pages in headless Chromium (Debian's package) against a live server."""
