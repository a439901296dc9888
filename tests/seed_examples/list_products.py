# The seed's "List Products" Python example, unchanged but for the base URL and key.
import os
import requests
response = requests.get(
f"{os.environ['SELLVY_API_BASE']}/products",
headers={"Authorization": f"Bearer {os.environ['SELLVY_API_KEY']}"},
params={"per_page": 10}
)
data = response.json()
print(f"Found {data['meta']['total']} products")
