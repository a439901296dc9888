// The seed's "Create Product" JavaScript example, unchanged but for the base URL and key.
const response = await fetch(`${process.env.SELLVY_API_BASE}/products`, {
method: 'POST',
headers: {
'Authorization': `Bearer ${process.env.SELLVY_API_KEY}`,
'Content-Type': 'application/json'
},
body: JSON.stringify({
title: 'Premium Icon Pack',
type: 'digital_download',
price: 29.99,
description: '500+ hand-crafted icons'
})
});
const { data } = await response.json();
console.log(`Created product: ${data.id}`);
