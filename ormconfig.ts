import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadDatabaseConfig } from './src/config/app-config';
import { dataSourceOptions } from './src/config/data-source-options';

/** The TypeORM DataSource for the TypeORM CLI and our own `migrate` command (configured from the environment). */
export default new DataSource(dataSourceOptions(loadDatabaseConfig()));
