-- SQLite's 0034 rewrites three CHECK constraints with IN lists as OR chains: SQLite builds a
-- temporary b-tree for such a list on every insert. PostgreSQL evaluates the lists as they are:
-- nothing to change here.
SELECT 1;
