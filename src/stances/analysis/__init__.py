"""Analysis of Results: comparing scenarios (``compare``) and sweeping values (``sweep``). It
works on Results only: it runs nothing itself but through the function it is given."""
