-- Table 1, Taiwan's server exports by destination (customs, HS code var, exports
-- 出口總值(含復出口)): value in 億美元, growth, share of all destinations and average
-- growth, for the total and the five largest destinations of the latest column (China and Hong Kong
-- as one, CN+HK).
{{ exhibit_mart('table1_tw_server_exports_by_destination') }}
