"""App-side helpers shared by the pages: settings, cached data access, filters, display and privacy."""
