"""browser: end-to-end tests that drive Debian's headless Chromium against httpserve."""
