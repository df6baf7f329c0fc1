export { etcdctlCommand } from '../../components';
