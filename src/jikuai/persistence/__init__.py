"""Tables, repositories, the unit of work, migrations and the cache."""
