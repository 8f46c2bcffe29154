"""The officers' web page: review queue, tickets, search, known rumours, dashboard, retraining.

``monitor.web.app.create_app`` builds the FastAPI application; ``monitor.service`` serves it.
"""
