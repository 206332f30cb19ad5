import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';

/**
 * The key table. On MySQL every text column is utf8mb4 whatever the database's default (keys
 * hold any Unicode, emoji included) with a binary collation, so keys compare byte for byte as a
 * cache needs: "A" ≠ "a", "é" ≠ "e\u0301". The NO PAD binary collation is preferred because
 * utf8mb4_bin pads: it makes "a" and "a " one key. SQLite stores UTF-8 and compares BINARY.
 */
export class CreateImages1795751000000 implements MigrationInterface {
  name = 'CreateImages1795751000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const charset = isMysql(queryRunner)
      ? { charset: 'utf8mb4', collation: await binaryCollation(queryRunner) }
      : {};
    const text = (name: string, length: number, extra: Partial<TableColumnOptions> = {}) => ({
      name,
      type: 'varchar',
      length: String(length),
      ...charset,
      ...extra,
    });
    await queryRunner.createTable(
      new Table({
        name: 'images',
        columns: [
          // 255 characters: server.maxKeyLength allows up to 250.
          text('key', 255, { isPrimary: true }),
          text('objectName', 128),
          text('contentType', 255),
          { name: 'byteSize', type: 'int' },
          text('checksum', 64),
          { name: 'version', type: 'bigint' },
          { name: 'createdAt', type: 'datetime', precision: 3 },
          { name: 'updatedAt', type: 'datetime', precision: 3 },
        ],
        indices: [{ name: 'UQ_images_objectName', columnNames: ['objectName'], isUnique: true }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('images');
  }
}

function isMysql(queryRunner: QueryRunner): boolean {
  const type = queryRunner.connection.options.type;
  return type === 'mysql' || type === 'mariadb';
}

/** MariaDB ≥ 10.2 has utf8mb4_nopad_bin, MySQL ≥ 8.0.17 utf8mb4_0900_bin; older ones only pad. */
async function binaryCollation(queryRunner: QueryRunner): Promise<string> {
  const rows: { name: string }[] = await queryRunner.query(
    `SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS
     WHERE COLLATION_NAME IN ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin') ORDER BY COLLATION_NAME DESC`,
  );
  return rows[0]?.name ?? 'utf8mb4_bin';
}
