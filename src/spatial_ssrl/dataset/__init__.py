"""Dataset building, split by role: `config` (BuildConfig), `builder` (plan, resume, stats), `shards` (one
unit of work), `engines` (where shards run), `schema` (the row layout and shard files), `card` and
`preview` (pages rendered from templates), `coldstart` (cold-start responses from each task's template),
`paths` (names from data made safe as file names, confined to their output folder)."""
