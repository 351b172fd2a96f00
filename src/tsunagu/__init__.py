"""tsunagu (繋ぐ): an open-source digital-government platform.

Nothing happens at import time: build the pieces with the factories
(:func:`tsunagu.settings.load_settings`, :func:`tsunagu.db.make_engine`, :func:`tsunagu.web.app.create_app`).
"""

__version__ = "0.1.0"
