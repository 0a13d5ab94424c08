-- S3 credentials: the non-secret settings stay in "config"; the secrets are stored only as AES-256-GCM ciphertext
-- (sealed by the application with ECHELON_SECRET_KEY, bound to the row's tenant and id).

-- AlterTable
ALTER TABLE "storage_systems" ADD COLUMN "secret_config" TEXT;
