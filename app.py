"""Entry point: builds the SEND Professional Portal and, run directly, serves it."""
from send_portal import create_app

app = create_app()

if __name__ == "__main__":  # pragma: no cover - development convenience
    app.run(host="127.0.0.1", port=5000)
