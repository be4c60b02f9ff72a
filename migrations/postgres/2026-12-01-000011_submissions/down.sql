DROP TABLE submission_heads;
DROP TABLE submissions;
