"""Every blueprint of the API, registered explicitly in one list."""

from __future__ import annotations

from flask import Flask

from serving import openapi
from serving.blueprints import (
    analytics,
    auth,
    customer_analytics,
    customers,
    dashboard_widgets,
    exports,
    health,
    image_files,
    images,
    ingest,
    keys,
    metrics,
    order_analytics,
    order_search,
    orders,
    payments,
    prices,
    product_analytics,
    products,
    stock,
    tenants,
    uploads,
    users,
    webhooks,
)


def register_blueprints(app: Flask) -> None:
    """Mount each resource's blueprint on the app."""
    for blueprint in (
        health.bp,
        openapi.bp,
        auth.bp,
        tenants.bp,
        users.bp,
        keys.bp,
        ingest.bp,
        uploads.bp,
        products.bp,
        customers.bp,
        orders.bp,
        stock.bp,
        prices.bp,
        images.bp,
        image_files.bp,
        payments.bp,
        webhooks.bp,
        order_search.bp,
        metrics.bp,
        product_analytics.bp,
        order_analytics.bp,
        customer_analytics.bp,
        analytics.bp,
        dashboard_widgets.bp,
        exports.bp,
    ):
        app.register_blueprint(blueprint)
