"""What coverage is counted against, read from the installed libraries, and what is planned for it.

    denominators.py  the importer's convert-map keys, the core ATen overloads, OpInfo's entries
    inventory.py     per denominator op: the rows and dynamic programs for it, or why it has
                     none; per OpInfo entry: its cases per profile, or why it has none
"""
