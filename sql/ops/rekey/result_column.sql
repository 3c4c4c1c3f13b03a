-- Re-key one identifier column of a results or published table through {{map}} (old_id, new_id).
UPDATE {{table}} AS t SET {{column}} = m.new_id FROM {{map}} m WHERE t.{{column}} = m.old_id;
