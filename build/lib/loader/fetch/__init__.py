"""Fetch: Hatch's Bulk Export API under its rate limits, every ZIP kept in the landing store.

``exports`` plans the windows and runs the requests; ``api_client`` speaks HTTP; ``rate_ledger``
shares the API's limits between processes; ``fetch_log`` records what was fetched.
"""
