"""Word lists the generator draws names, places and catalogue text from (data only).

Some entries carry non-ASCII letters and quotes on purpose, so ingestion sees real UTF-8 and
JSON escaping; e-mail local parts are transliterated from these in `customers`.
"""

from __future__ import annotations

# (category, median price in USD, variant probability, variant templates, subcategories)
# Each subcategory: (name, nouns).
Subcategory = tuple[str, tuple[str, ...]]
CATEGORIES: tuple[tuple[str, float, float, tuple[int, ...], tuple[Subcategory, ...]], ...] = (
    ("Apparel", 45.0, 0.8, (0, 1, 2, 3), (
        ("T-Shirts", ("Tee", "Crew Tee", "V-Neck Tee", "Pocket Tee")),
        ("Knitwear", ("Sweater", "Cardigan", "Hoodie")),
        ("Outerwear", ("Jacket", "Parka", "Rain Coat", "Vest")),
        ("Trousers", ("Chinos", "Jeans", "Joggers")),
    )),
    ("Footwear", 90.0, 0.9, (4,), (
        ("Sneakers", ("Runner", "Court Sneaker", "Trainer")),
        ("Boots", ("Chelsea Boot", "Hiking Boot", "Work Boot")),
        ("Sandals", ("Slide", "Sandal")),
    )),
    ("Home & Kitchen", 35.0, 0.15, (2, 7), (
        ("Cookware", ("Skillet", "Saucepan", "Dutch Oven", "Wok")),
        ("Tableware", ("Mug", "Plate Set", "Bowl", "Teapot")),
        ("Storage", ("Jar", "Canister", "Basket")),
    )),
    ("Beauty", 28.0, 0.1, (2,), (
        ("Skincare", ("Serum", "Moisturizer", "Cleanser", "Face Mask")),
        ("Haircare", ("Shampoo", "Conditioner", "Hair Oil")),
        ("Fragrance", ("Eau de Parfum", "Candle", "Body Mist")),
    )),
    ("Electronics", 80.0, 0.3, (2, 6), (
        ("Audio", ("Headphones", "Speaker", "Earbuds")),
        ("Accessories", ("Charger", "USB-C Cable", "Power Bank", "Phone Case")),
        ("Smart Home", ("Smart Plug", "Desk Lamp", "Sensor")),
    )),
    ("Sports & Outdoors", 55.0, 0.3, (0, 2), (
        ("Camping", ("Tent", "Sleeping Bag", "Lantern")),
        ("Fitness", ("Yoga Mat", "Kettlebell", "Resistance Band")),
        ("Cycling", ("Bike Light", "Helmet", "Bottle Cage")),
    )),
    ("Books & Stationery", 15.0, 0.05, (7,), (
        ("Notebooks", ("Notebook", "Sketchbook", "Journal")),
        ("Writing", ("Fountain Pen", "Pencil Set", "Marker Set")),
        ("Planners", ("Weekly Planner", "Wall Calendar")),
    )),
    ("Toys & Games", 30.0, 0.2, (7,), (
        ("Puzzles", ("Jigsaw Puzzle", "Puzzle Box")),
        ("Board Games", ("Board Game", "Card Game")),
        ("Plush", ("Plush Bear", "Plush Fox")),
    )),
    ("Grocery", 14.0, 0.5, (5,), (
        ("Coffee", ("Coffee Beans", "Espresso Blend", "Filter Roast")),
        ("Tea", ("Green Tea", "Chai", "Herbal Tea")),
        ("Snacks", ("Dark Chocolate", "Granola", "Trail Mix")),
    )),
    ("Jewelry & Bags", 70.0, 0.4, (6, 2), (
        ("Bags", ("Tote", "Backpack", "Crossbody Bag")),
        ("Watches", ("Field Watch", "Dress Watch")),
        ("Jewelry", ("Necklace", "Ring", "Earrings")),
    )),
)  # fmt: skip

# Variant templates: attribute name(s) and the value combinations a product's variants take.
VARIANT_TEMPLATES: tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...] = (
    (("size",), (("S",), ("M",), ("L",))),
    (("size",), (("XS",), ("S",), ("M",), ("L",), ("XL",))),
    (("color",), (("Black",), ("White",), ("Navy",))),
    (("size", "color"), tuple((s, c) for c in ("Black", "Grey") for s in ("S", "M", "L"))),
    (("size",), tuple((str(n),) for n in range(38, 45))),
    (("weight",), (("250g",), ("500g",), ("1kg",))),
    (("color",), (("Silver",), ("Gold",))),
    (("color",), (("Red",), ("Blue",), ("Green",), ("Yellow",))),
)

ADJECTIVES = (
    "Everyday", "Classic", "Nordic", "Urban", "Heritage", "Essential", "Coastal", "Alpine",
    "Studio", "Vintage", "Modern", "Organic", "Field", "Harbor", "Summit", "Café", "Lumen",
    "Terra", "Aurora", "Pacific", "Ember", "Willow", "Granite", "Juniper", "Sakura", "Atlas",
)  # fmt: skip
MATERIALS = ("Cotton", "Linen", "Wool", "Ceramic", "Oak", "Steel", "Leather", "Bamboo", "Recycled")
TAGS = ("new", "bestseller", "eco", "gift", "limited", "sale", "handmade", "bundle")
SENTENCES = (
    "Made to last and easy to care for.",
    "A customer favourite since our first season.",
    "Designed in-house and produced in small batches.",
    "Pairs well with the rest of the collection.",
    "Ships in plastic-free packaging.",
    'Our team calls it "the one you keep reaching for".',
    "Backed by a two-year warranty.",
    "Certified materials, fair production.",
)

# Per country: first names, last names, (city, region, postal prefix), streets, phone prefix,
# e-mail domains.
PEOPLE: dict[str, dict[str, tuple]] = {
    "DE": {
        "first": ("Anna", "Jürgen", "Lena", "Maximilian", "Sophie", "Lukas", "Marie", "Jörg",
                  "Emilia", "Felix", "Hannah", "Matthias", "Zoë", "Paul", "Leonie", "Björn"),
        "last": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner",
                 "Becker", "Schulz", "Hoffmann", "Köhler", "Weiß", "Krüger", "Wolf"),
        "cities": (("Berlin", "BE", "10"), ("Hamburg", "HH", "20"), ("München", "BY", "80"),
                   ("Köln", "NW", "50"), ("Leipzig", "SN", "04"), ("Frankfurt", "HE", "60")),
        "streets": ("Hauptstraße", "Gartenweg", "Lindenallee", "Schillerstraße", "Bahnhofstraße"),
        "phone": "+49 30 ", "domains": ("gmail.com", "web.de", "gmx.de", "posteo.de"),
    },
    "US": {
        "first": ("James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda",
                  "Daniel", "Emily", "Jose", "Ashley", "Kevin", "Olivia", "Brian", "Chloe"),
        "last": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
                 "Rodriguez", "Martinez", "Nguyen", "O'Brien", "Lee", "Walker"),
        "cities": (("Los Angeles", "CA", "900"), ("San Francisco", "CA", "941"),
                   ("Seattle", "WA", "981"), ("Portland", "OR", "972"), ("Austin", "TX", "787"),
                   ("New York", "NY", "100"), ("Denver", "CO", "802")),
        "streets": ("Main St", "Oak Ave", "Maple Dr", "Sunset Blvd", "Pine St", "Elm St"),
        "phone": "+1 415 ", "domains": ("gmail.com", "yahoo.com", "outlook.com", "icloud.com"),
    },
    "JP": {
        "first": ("Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Yuto", "Sakura", "Riku", "Mei",
                  "Kaito", "Yuna", "Takumi", "Rin"),
        "last": ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto",
                 "Nakamura", "Kobayashi", "Kato", "Yoshida", "Yamada"),
        "cities": (("Tokyo", "13", "1"), ("Osaka", "27", "5"), ("Yokohama", "14", "2"),
                   ("Kyoto", "26", "6"), ("Sapporo", "01", "0"), ("Fukuoka", "40", "8")),
        "streets": ("Chuo 1-chome", "Shibuya 2-chome", "Minato 3-chome", "Nakano 4-chome"),
        "phone": "+81 3 ", "domains": ("gmail.com", "yahoo.co.jp", "docomo.ne.jp", "icloud.com"),
    },
}  # fmt: skip
# Countries without their own lists borrow the nearest one; cities are replaced below.
_BORROW = {"GB": "US", "CA": "US", "AU": "US", "BR": "US", "IN": "US", "SE": "DE"}
_CITIES = {
    "GB": (("London", "ENG", "E1"), ("Manchester", "ENG", "M1"), ("Edinburgh", "SCT", "EH1")),
    "CA": (("Toronto", "ON", "M5"), ("Montréal", "QC", "H2"), ("Vancouver", "BC", "V6")),
    "AU": (("Sydney", "NSW", "20"), ("Melbourne", "VIC", "30"), ("Brisbane", "QLD", "40")),
    "BR": (("São Paulo", "SP", "01"), ("Rio de Janeiro", "RJ", "20"), ("Curitiba", "PR", "80")),
    "IN": (("Mumbai", "MH", "400"), ("Bengaluru", "KA", "560"), ("Pune", "MH", "411")),
    "SE": (("Stockholm", "AB", "11"), ("Göteborg", "O", "41"), ("Malmö", "M", "21")),
}
_PHONES = {"GB": "+44 20 ", "CA": "+1 416 ", "AU": "+61 2 ", "BR": "+55 11 ", "IN": "+91 22 ",
           "SE": "+46 8 "}  # fmt: skip


def people(country: str) -> dict[str, tuple]:
    """Return the name and address lists for a country (borrowing names where needed)."""
    if country in PEOPLE:
        return PEOPLE[country]
    base = dict(PEOPLE[_BORROW.get(country, "US")])
    base["cities"] = _CITIES.get(country, base["cities"])
    base["phone"] = _PHONES.get(country, base["phone"])
    return base


STAFF = ("Alex (support)", "Sam (support)", "Kim (ops)", "Jo (returns)", "Chris (CX lead)")
NOTE_TEMPLATES = (
    "Asked about sizing before ordering; recommended one size up.",
    'Prefers delivery after 6pm. Left note: "ring twice".',
    "Parcel reported damaged in transit; replacement sent.",
    "Requested invoice with company VAT number.",
    "Wholesale enquiry forwarded to sales.",
    "Called about a late delivery.\nCarrier confirmed it was delivered to a neighbour.",
    "Very happy with the last order — wants to be told about restocks.",
    "Asked to remove phone number from marketing lists.",
)
SEARCH_TERMS = ("gift", "sale", "black", "coffee", "linen", "boots", "mug", "headphones", "tee")
REFERRERS = ("direct", "google", "instagram", "newsletter", "facebook", "bing", "tiktok")
PAGES = ("/", "/collections/all", "/collections/new", "/sale", "/blog", "/pages/about")
REFUND_REASONS = ("customer_request", "damaged", "not_as_described", "wrong_size", "late_delivery")
PAYMENT_PROVIDERS = ("stripe", "paypal", "shop_pay")
