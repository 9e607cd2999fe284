-- Contacts and their folders, as imported for outbound campaigns.

-- name: create_contact<!
INSERT INTO contacts (folder_id, phone, name)
VALUES (:folder_id, :phone, :name)
RETURNING id;

-- name: upsert_contact<!
INSERT INTO contacts (clerk_org_id, folder_id, phone, name)
VALUES (:org_id, :folder_id, :phone, :name)
ON CONFLICT (clerk_org_id, phone) DO UPDATE
SET name = EXCLUDED.name, folder_id = EXCLUDED.folder_id
RETURNING id;

-- name: move_contacts_to_folder!
UPDATE contacts
SET folder_id = f.id
FROM contact_folders f
WHERE f.id = :folder_id
  AND f.clerk_org_id = :org_id
  AND contacts.clerk_org_id = f.clerk_org_id
  AND contacts.id = ANY(:contact_ids);

-- name: delete_folder_contacts!
DELETE FROM contacts
USING contact_folders f
WHERE contacts.folder_id = f.id
  AND f.id = :folder_id
  AND contacts.clerk_org_id = :org_id
  AND f.clerk_org_id = :org_id;
