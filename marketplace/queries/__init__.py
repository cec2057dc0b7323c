"""Read side: reporting queries that return plain data, never change anything."""
