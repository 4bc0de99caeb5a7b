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

-- A survey and the contact it answers are one customer's: their keys join up.
record_links as (
    select
        record_id,
        answers_interaction_id as linked_id
    from records
    where answers_interaction_id is not null
),

edges as (
    select
        a.node as node_a,
        b.node as node_b
    from unmatched_keys as a
    inner join unmatched_keys as b
        on a.record_type = b.record_type and a.record_id = b.record_id
    union
    select
        a.node as node_a,
        b.node as node_b
    from record_links as l
    inner join unmatched_keys as a on a.record_type = 'response' and l.record_id = a.record_id
    inner join unmatched_keys as b on b.record_type = 'interaction' and l.linked_id = b.record_id
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
