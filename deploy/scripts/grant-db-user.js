'use strict';
/*
 * Creates (or re-passwords) the app's own MySQL user with what the migrations and the queries
 * need on the app's database and nothing else; the RDS master user stays for break-glass.
 * Run by install-app.sh as root with the master credentials, from the installed app (mysql2 and
 * the app's TLS settings come from there). Idempotent: run again after a rotation of the app
 * user's secret, it sets the new password.
 * Environment: PIXPOOL_APP_DIR, DB_HOST, DB_PORT, DB_NAME, MASTER_USER, MASTER_PASSWORD,
 * APP_USER, APP_PASSWORD, DB_TLS (amazon-rds | off; off only for tests).
 */
const path = require('node:path');

const PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP, REFERENCES';

async function main(env) {
  for (const name of ['PIXPOOL_APP_DIR', 'DB_HOST', 'DB_NAME', 'MASTER_USER', 'APP_USER']) {
    if (!env[name]) throw new Error(`grant-db-user.js: ${name} is required`);
  }
  const appDir = env.PIXPOOL_APP_DIR;
  const mysql = require(path.join(appDir, 'node_modules', 'mysql2', 'promise'));
  const tls = env.DB_TLS !== 'off';
  const ssl = tls
    ? require(path.join(appDir, 'dist', 'src', 'database', 'data-source-options')).mysqlTls(
        'amazon-rds',
      )
    : undefined;
  const connection = await mysql.createConnection({
    host: env.DB_HOST,
    port: Number(env.DB_PORT || 3306),
    user: env.MASTER_USER,
    password: env.MASTER_PASSWORD || '',
    ssl,
  });
  try {
    const requireTls = tls ? ' REQUIRE SSL' : '';
    const user = [env.APP_USER, env.APP_PASSWORD || ''];
    await connection.query(`CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?${requireTls}`, user);
    await connection.query(`ALTER USER ?@'%' IDENTIFIED BY ?${requireTls}`, user);
    await connection.query(`GRANT ${PRIVILEGES} ON ??.* TO ?@'%'`, [env.DB_NAME, env.APP_USER]);
  } finally {
    await connection.end();
  }
}

main(process.env).catch((error) => {
  console.error(`grant-db-user.js: ${error.message}`);
  process.exit(1);
});
