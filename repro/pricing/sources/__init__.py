"""Price sources, one module each. Each returns `Offer`s; none writes a snapshot itself.

| module          | provider / market        | where the numbers come from                              |
|-----------------|--------------------------|----------------------------------------------------------|
| aws_ondemand    | aws on-demand            | AWS Price List: service index -> region index -> file    |
| aws_spot        | aws spot                 | boto3 (repro[aws]) else the public spot.json (spot.js)   |
| azure           | azure on-demand + spot   | Azure Retail Prices API (paged)                          |
| skypilot        | any cloud SkyPilot lists | SkyPilot catalog vms.csv from a path or URL (GCP: CPUs)  |
| paperspace      | paperspace on-demand     | maintained table + a user override file                  |
"""
