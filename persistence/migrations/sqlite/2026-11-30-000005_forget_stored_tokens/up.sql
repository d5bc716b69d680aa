-- Earlier versions stored the answers of keyed anonymous calls, among them live access
-- and refresh tokens in clear text. Such answers are no longer kept: forget them.
DELETE FROM idempotency_keys WHERE scope = 'anonymous' OR body LIKE '%"refresh_token"%';
