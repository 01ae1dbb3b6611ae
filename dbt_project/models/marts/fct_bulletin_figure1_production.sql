-- Figure 1, Taiwan's server production value (MOEA survey, product 伺服器): value in whole
-- 億元 (NT$ 100 million) and growth, for every year from the first year to the last full year and
-- the year-to-date span.
{{ exhibit_mart('figure1_tw_server_production') }}
