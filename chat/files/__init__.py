"""Attachments' bytes: where they are stored (storage), what they are (sniffing), and the
short-lived signed links that reach them (links). structures.md, "Attachments"."""
