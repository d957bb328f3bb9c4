"""The connector SDK every agency uses, and the demo agency packages. Never imports gateway."""
