-- Table 2, the US's server imports by source (Global Trade Atlas).
-- The exhibit is defined by its row in seeds/bulletin_exhibits.csv (the one whose mart is
-- this model); the four exhibit marts are documented once, in _exhibit_marts.yml.
{{ exhibit_mart() }}
