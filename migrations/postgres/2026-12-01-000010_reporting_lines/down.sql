DROP TABLE reporting_lines;
