-- Table 2, the US's server imports by source (Global Trade Atlas): value in 億美元, growth and
-- share of GTA's World, for the total and the five largest sources of the latest column.
{{ exhibit_mart('table2_us_server_imports_by_source') }}
