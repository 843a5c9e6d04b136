-- A connection made for the evaluation stack (role CrossbillEvaluation,
-- cost and commitments only) regenerates that stack, not the account role
-- of the same modules, when its templates are asked for again.
ALTER TABLE connections ADD COLUMN evaluation INTEGER NOT NULL DEFAULT 0;
