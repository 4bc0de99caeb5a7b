"""Customer Insight Hub: contact-centre, CRM, survey and sales data joined into one PostgreSQL hub."""

__version__ = "0.1.0"
