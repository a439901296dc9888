// The seed's "List Products" JavaScript example, unchanged but for the base URL and key.
const response = await fetch(`${process.env.SELLVY_API_BASE}/products?per_page=10`, {
headers: {
'Authorization': `Bearer ${process.env.SELLVY_API_KEY}`
}
});
const { data, meta } = await response.json();
console.log(`Found ${meta.total} products`);
