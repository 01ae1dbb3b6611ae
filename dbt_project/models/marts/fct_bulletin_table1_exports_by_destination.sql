-- Table 1, Taiwan's server exports by destination (customs).
-- The exhibit is defined by its row in seeds/bulletin_exhibits.csv (the one whose mart is
-- this model); the four exhibit marts are documented once, in _exhibit_marts.yml.
{{ exhibit_mart() }}
