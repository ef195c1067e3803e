"""Attachments: files on any record page whose module registers its kind (``register_attachables``)."""
