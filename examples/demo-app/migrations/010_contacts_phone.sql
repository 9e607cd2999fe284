-- 010: contacts.phone_number becomes phone (E.164; "+15551234567").
ALTER TABLE contacts RENAME COLUMN phone_number TO phone;
CREATE UNIQUE INDEX idx_contacts_org_phone ON contacts (clerk_org_id, phone);
