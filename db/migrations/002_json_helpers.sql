-- Byte-exact JSON fragments. to_json(text)::text escapes exactly as JSON.stringify does
-- (", \, \b \f \n \r \t, other control characters as \u00xx), and unlike json_build_object
-- it adds no spaces, so documents built from these are the bytes the client receives.

CREATE FUNCTION json_str(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN coalesce(to_json($1)::text, 'null');

-- Prices are strings with exactly two decimals ("140.00"), or null.
CREATE FUNCTION json_price(numeric) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN coalesce('"' || round($1, 2)::text || '"', 'null');

-- Timestamps as JavaScript's Date#toISOString prints them: 2026-11-20T10:00:00.000Z.
CREATE FUNCTION json_time(timestamptz) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN coalesce('"' || to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"', 'null');
