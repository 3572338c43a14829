"""Row-level security on shopper-keyed tables.

The table owner (the application's user) is exempt, so pages and the admin work as
before. Every other role, i.e. a store's tool role, sees only the rows of the
shopper named by the transaction's `app.shopper_sub` setting; with it unset, none.
"""

from django.db import migrations

SHOPPER = "NULLIF(current_setting('app.shopper_sub', true), '')"

FORWARD = f"""
ALTER TABLE storefront_order ENABLE ROW LEVEL SECURITY;
CREATE POLICY shopper_orders ON storefront_order FOR SELECT
    USING (shopper_sub = {SHOPPER});
ALTER TABLE storefront_orderitem ENABLE ROW LEVEL SECURITY;
CREATE POLICY shopper_order_items ON storefront_orderitem FOR SELECT
    USING (EXISTS (SELECT 1 FROM storefront_order o WHERE o.id = order_id AND o.shopper_sub = {SHOPPER}));
"""

BACKWARD = """
DROP POLICY IF EXISTS shopper_order_items ON storefront_orderitem;
ALTER TABLE storefront_orderitem DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS shopper_orders ON storefront_order;
ALTER TABLE storefront_order DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [("storefront", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
