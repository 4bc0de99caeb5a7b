{#
  Customers who are not in the CRM (guests), found among the keys of records no CRM rule matched
  (int_identity_unmatched_keys). Two keys belong to one guest when a record carries both, or when a
  survey carries one and the contact it answers the other; guests are the connected components of
  that graph.
  component_id is 'G' and a hash of the component's smallest key; the stable customer_id a guest
  keeps across runs comes from int_identity_guest_registry.
#}
with recursive unmatched_keys as (
    select * from {{ ref('int_identity_unmatched_keys') }}
),

records as (
    select * from {{ ref('int_identity_records') }}
),

-- Two keys of one record belong to one guest: each key is linked to its record's smallest key. That
-- star joins up the same keys as an edge between every two keys of the record would, with one edge per
-- key instead of one per pair.
record_hubs as (
    select
        record_type,
        record_id,
        min(node) as hub
    from unmatched_keys
    group by record_type, record_id
),

-- A survey and the contact it answers are one customer's: their keys join up. The contact each unmatched
-- response answers, looked up by the records' key; materialized, because PostgreSQL cannot estimate
-- how few responses there are among the keys and would probe the records once per contact key instead.
response_links as materialized (
    select
        a.node,
        r.answers_interaction_id
    from unmatched_keys as a
    inner join records as r on a.record_type = r.record_type and a.record_id = r.record_id
    where a.record_type = 'response' and r.answers_interaction_id is not null
),

edges as (
    select
        k.node as node_a,
        h.hub as node_b
    from unmatched_keys as k
    inner join record_hubs as h on k.record_type = h.record_type and k.record_id = h.record_id
    union
    select
        l.node as node_a,
        b.node as node_b
    from response_links as l
    inner join unmatched_keys as b on b.record_type = 'interaction' and l.answers_interaction_id = b.record_id
),

undirected as (
    select
        node_a,
        node_b
    from edges
    union
    select
        node_b as node_a,
        node_a as node_b
    from edges
),

-- Every node reaches every node of its component; UNION stops the walk when nothing new is found.
reach (node, root) as (
    select
        node_a as node,
        node_a as root
    from undirected
    union
    select
        u.node_b as node,
        r.root
    from reach as r
    inner join undirected as u on r.node = u.node_a
),

components as (
    select
        node,
        min(root) as component
    from reach
    group by node
),

final as (
    select
        'G' || left(md5(component), 11) as component_id,
        split_part(node, ':', 1) as key_type,
        substr(node, strpos(node, ':') + 1) as key_value
    from components
)

select * from final
