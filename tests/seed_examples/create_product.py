# The seed's "Create Product" Python example, unchanged but for the base URL and key.
import os
import requests
response = requests.post(
f"{os.environ['SELLVY_API_BASE']}/products",
headers={
"Authorization": f"Bearer {os.environ['SELLVY_API_KEY']}",
"Content-Type": "application/json"
},
json={
"title": "Premium Icon Pack",
"type": "digital_download",
"price": 29.99,
"description": "500+ hand-crafted icons"
}
)
product = response.json()["data"]
print(f"Created product: {product['id']}")
