-- Table 3, the major exporting countries (ITC Trade Map): value in 億美元, growth, share of
-- ITC's World, average growth and change of share, for the world and the four largest exporters of
-- the latest year.
{{ exhibit_mart('table3_major_exporters') }}
